package runner

import (
	"github.com/kballard/go-shellquote"
)

// SplitWords splits --sut-args into words as a POSIX shell would: quotes and backslashes
// respected, nothing expanded. An unclosed quote is an error (the CLI exits 2).
func SplitWords(s string) ([]string, error) {
	return shellquote.Split(s)
}
