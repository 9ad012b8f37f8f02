//go:build !linux

package bench

import "syscall"

// childProcAttr has nothing to add where the kernel cannot tie the child's
// life to the bench's; the fleet scenario needs Linux's /proc anyway.
func childProcAttr() *syscall.SysProcAttr { return nil }
