// Package conform is the catalogue of `muster-test conform`: one scenario file per check
// in checks/ and their metadata (level, requirement, spec references) in catalogue.yaml.
// The engine that runs them is internal/conform.
package conform

import "embed"

// FS holds catalogue.yaml and checks/*.yaml.
//
//go:embed catalogue.yaml checks/*.yaml
var FS embed.FS
