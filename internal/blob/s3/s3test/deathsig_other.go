//go:build !linux

package s3test

import "os/exec"

// setDeathSignal does nothing where the kernel cannot tie the server's life
// to the test binary's; Main stops it on a normal exit.
func setDeathSignal(*exec.Cmd) {}
