// Package workloads holds muster-test's built-in load workloads (docs/load.md). The YAML
// files are embedded in the binary: `muster-test load --workload NAME` runs one by its
// file name without the extension.
package workloads

import "embed"

// FS holds the workload files.
//
//go:embed *.yaml
var FS embed.FS
