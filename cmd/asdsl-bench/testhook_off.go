//go:build !asdsl_testhook

package main

// testSlowdown is 0 in every release build: the slowdown hook exists only
// in binaries built with -tags asdsl_testhook (see testhook_on.go).
func testSlowdown() float64 { return 0 }
