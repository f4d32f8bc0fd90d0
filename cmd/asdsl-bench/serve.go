package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"asdsl-bench/harness/dashboard"
)

func runServe(args []string) error {
	flags := newFlags("serve", "serve [--addr :8080] [--db FILE|URL] [--static DIR]")
	addr := flags.String("addr", "localhost:8080", "address to listen on (\":8080\" for every interface)")
	db := flags.String("db", "", dbFlagHelp)
	staticDir := flags.String("static", "", "write the pages as a static site into DIR instead of serving them")
	if err := parse(flags, args); err != nil {
		return err
	}
	s, err := openDB(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	if *staticDir != "" {
		n, err := dashboard.Static(context.Background(), s, *staticDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %d pages to %s (open %s/index.html)\n", n, *staticDir, *staticDir)
		return nil
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: dashboard.Handler(s), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "serving %s on http://%s/ (Ctrl-C stops)\n", s, ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
