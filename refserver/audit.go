package refserver

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// AuditRecord is one line of the audit log: one tools/call, allowed or denied.
type AuditRecord struct {
	Time     time.Time `json:"time"`
	Subject  string    `json:"subject"` // empty when the call carried no valid token
	Tenant   string    `json:"tenant"`
	Tool     string    `json:"tool"`
	Decision string    `json:"decision"` // "allow" or "deny"
	Reason   string    `json:"reason"`
	// Protocol is the MCP-Protocol-Version the call was sent with (none: absent).
	Protocol string `json:"protocol,omitempty"`
}

// Decisions of an AuditRecord.
const (
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
)

// auditLog appends records to a JSONL file, one write per record, before the call is
// answered: a call whose record cannot be written is refused.
type auditLog struct {
	mu sync.Mutex
	f  *os.File // nil: no audit log
}

func openAudit(path string) (*auditLog, error) {
	if path == "" {
		return &auditLog{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &auditLog{f: f}, nil
}

func (a *auditLog) write(rec AuditRecord) error {
	if a.f == nil {
		return nil
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(line); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (a *auditLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}
