// Command titular carries out LGPD data-subject rights for a multi-tenant
// real-estate CRM. Run `titular help` for its subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "titular:", err)
		os.Exit(1)
	}
}
