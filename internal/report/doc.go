// Package report holds muster-test's reporters: the console output, the JSON report file
// (muster's report shape plus our fields), the JUnit XML file, and Multi, which fans a run's
// events out to several of them. Every reporter is an event.Listener and sees nothing of a
// run but its events.
//
// Errors: event.Listener methods return nothing, so the reporters that write files (JSON,
// JUnit) do their writing at RunFinished and keep the error; the CLI asks for it afterwards
// with Err() (the ErrReporter interface; MultiListener.Err joins the errors of the
// listeners it holds) and exits 2 when it is not nil. The console reporter keeps its first write error the
// same way.
package report

import "github.com/muster-test/muster-test/internal/event"

// ErrReporter is a listener that can fail after the fact, typically writing a file at
// RunFinished. Err returns nil until something went wrong.
type ErrReporter interface {
	event.Listener
	Err() error
}
