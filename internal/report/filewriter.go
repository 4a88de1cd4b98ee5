package report

import (
	"sync"

	"github.com/muster-test/muster-test/internal/event"
)

// FileWriter is a reporter that writes one file at RunFinished with a function of the
// whole run (the JSON, JUnit and HTML reports); Name says what it is ("HTML report").
type FileWriter struct {
	Name     string
	writeRun func(run *event.Run) (path string, err error)

	mu   sync.Mutex
	path string
	err  error
}

// NewFileWriter returns a reporter that calls write(path, run) when the run finishes.
func NewFileWriter(name, path string, write func(string, *event.Run) error) *FileWriter {
	return newFileWriter(name, path, func(run *event.Run) (string, error) { return path, write(path, run) })
}

// newFileWriter is NewFileWriter for a writer that picks the path itself; path is what
// Path says until then.
func newFileWriter(name, path string, write func(*event.Run) (string, error)) *FileWriter {
	return &FileWriter{Name: name, path: path, writeRun: write}
}

// Path returns the file the reporter writes (for a writer that names it when it writes,
// "" before that).
func (f *FileWriter) Path() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.path
}

// Err returns the error writing the file, if any.
func (f *FileWriter) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// RunStarted does nothing: the file is written whole at RunFinished.
func (f *FileWriter) RunStarted(event.RunInfo) {}

// ScenarioStarted does nothing.
func (f *FileWriter) ScenarioStarted(string) {}

// ScenarioFinished does nothing: the run's results carry every scenario.
func (f *FileWriter) ScenarioFinished(event.ScenarioResult) {}

// RunFinished writes the file.
func (f *FileWriter) RunFinished(run event.Run) {
	path, err := f.writeRun(&run)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
	if err == nil {
		f.path = path
	}
}
