// Command portal is the reseller portal for Tencent Cloud International
// partners, and the local sandbox of the partner API it runs against.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"resellerportal/cmd/portal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}
