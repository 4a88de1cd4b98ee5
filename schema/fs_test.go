package schema

import (
	"testing/fstest"
)

// mapFS is a file system with one scenario file, x.yaml.
func mapFS(doc string) fstest.MapFS {
	return fstest.MapFS{"x.yaml": {Data: []byte(doc)}}
}
