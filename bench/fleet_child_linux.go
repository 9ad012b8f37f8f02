package bench

import "syscall"

// childProcAttr makes the kernel kill titular when the bench dies, so an
// interrupted or timed-out run leaves no server holding connections.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
