package main

import (
	"io/fs"

	"github.com/muster-test/muster-test/scenarios"
)

// embeddedSuite is the built-in suite, run when neither --config nor ./scenarios exists.
func embeddedSuite() fs.FS { return scenarios.FS }
