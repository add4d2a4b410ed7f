//go:build !linux

package main

const mapPopulate = 0
