package scenario

import (
	"reflect"

	"github.com/muster-test/muster-test/mocks/idp"
)

// ParseMockIdP loads the settings of one mock IdP run on its own (`muster-test mock-idp
// --config FILE`): the keys of a mock_oauth_servers entry, its name optional, with the
// diagnostics a scenario file gets (file:line:col, an excerpt, a did-you-mean). The keys
// that link it to other entries of a scenario have nothing to name here and are errors.
func (l Loader) ParseMockIdP(file string, data []byte) (idp.Config, []Diagnostic) {
	d := newDecoder(file)
	defer d.excerpts(data)
	root := d.document(data)
	if root == nil {
		return idp.Config{}, d.diags
	}
	var o MockOAuthServer
	d.decode(root, reflect.ValueOf(&o).Elem(), "")
	if !d.over && !d.deepMerge {
		c := &checker{decoder: d}
		c.mockIdP(&o, "")
		for key, field := range map[string]any{"trusted_issuers": &o.TrustedIssuers, "use_as_muster_oauth_server": &o.UseAsMusterOAuthServer} {
			if n := d.nodeOf(field); n != nil {
				d.errorAt(d.pos(n), "%s: only a scenario's mock_oauth_servers entry has it (it names other entries or the SUT)", key)
			}
		}
	}
	sortDiagnostics(d.diags)
	d.diags = d.capped()
	return o.Config, d.diags
}
