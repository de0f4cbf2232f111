//go:build unix

package storagetest

import "syscall"

// errNoSpace is the error of a write to a full file system.
var errNoSpace error = syscall.ENOSPC
