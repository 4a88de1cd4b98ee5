package testtools

import (
	"context"
	"fmt"
	"net/http"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/mocks/idp"
)

// GatewayLogin is how the runner logs in to a SUT that protects its own endpoint
// (sut.GatewayAuth.Login, docs/muster-contract.md §10.5): the runner is the SUT's OAuth
// client, through the mock IdP the SUT trusts, found from the SUT's 401 as any MCP client
// would find it, and logs in as the subject.
func GatewayLogin(e *env.Env) (func(ctx context.Context, endpoint, subject string) (http.RoundTripper, func(), error), error) {
	client, err := browser(e.CAFile)
	if err != nil {
		return nil, err
	}
	client.Transport = e.Traffic.Transport(client.Transport, event.PartyRunner)
	return func(ctx context.Context, endpoint, subject string) (http.RoundTripper, func(), error) {
		if err := declareSubject(e, subject); err != nil {
			return nil, nil, err
		}
		c, err := oauthclient.New(oauthclient.Config{HTTPClient: client, User: oauthclient.User{Subject: subject}})
		if err != nil {
			return nil, nil, err
		}
		if _, err := c.Login(ctx, endpoint); err != nil {
			c.Close()
			who := subject
			if who == "" {
				who = "the IdP's default user"
			}
			return nil, nil, fmt.Errorf("log in to the SUT as %s: %w", who, err)
		}
		hc, err := c.HTTPClient(endpoint)
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		return hc.Transport, func() { c.Close() }, nil
	}, nil
}

// declareSubject makes subject a user of every mock IdP of the scenario: they log in
// declared subjects only.
func declareSubject(e *env.Env, subject string) error {
	if subject == "" {
		return nil
	}
	for _, name := range e.IdPNames() {
		s, _ := e.IdP(name)
		if !s.HasUser(subject) {
			if err := s.AddUser(idp.User{Subject: subject}); err != nil {
				return fmt.Errorf("declare %s at IdP %s: %w", subject, name, err)
			}
		}
	}
	return nil
}
