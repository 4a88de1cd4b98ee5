package report

import (
	"errors"

	"github.com/muster-test/muster-test/internal/event"
)

// MultiListener fans every event out to its listeners, in order. It is as safe for
// concurrent calls as the listeners it holds.
type MultiListener []event.Listener

// Multi returns a MultiListener of the non-nil listeners given.
func Multi(ls ...event.Listener) MultiListener {
	m := make(MultiListener, 0, len(ls))
	for _, l := range ls {
		if l != nil {
			m = append(m, l)
		}
	}
	return m
}

// RunStarted forwards the event.
func (m MultiListener) RunStarted(info event.RunInfo) {
	for _, l := range m {
		l.RunStarted(info)
	}
}

// ScenarioStarted forwards the event.
func (m MultiListener) ScenarioStarted(name string) {
	for _, l := range m {
		l.ScenarioStarted(name)
	}
}

// ScenarioFinished forwards the event.
func (m MultiListener) ScenarioFinished(result event.ScenarioResult) {
	for _, l := range m {
		l.ScenarioFinished(result)
	}
}

// RunFinished forwards the event.
func (m MultiListener) RunFinished(run event.Run) {
	for _, l := range m {
		l.RunFinished(run)
	}
}

// Err joins the errors of the listeners that report errors (ErrReporter).
func (m MultiListener) Err() error {
	var errs []error
	for _, l := range m {
		if e, ok := l.(interface{ Err() error }); ok {
			errs = append(errs, e.Err())
		}
	}
	return errors.Join(errs...)
}
