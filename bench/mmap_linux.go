package main

import "syscall"

// mapPopulate maps a window's pages up front, as Berth does.
const mapPopulate = syscall.MAP_POPULATE
