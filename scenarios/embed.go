// Package scenarios is muster-test's built-in scenario suite. The YAML files are embedded
// in the binary, so `go install` plus `muster-test --scenario NAME` works anywhere.
package scenarios

import "embed"

// FS holds the suite's scenario files.
//
//go:embed *.yaml
var FS embed.FS
