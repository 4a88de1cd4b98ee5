package main

import (
	"fmt"
	"os"
)

func runMockIDP(args []string) int {
	fmt.Fprintln(os.Stderr, "muster-test: not implemented yet")
	return 2
}
