package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/unicat/unicat/config"
)

// Commands that read the store (backup, export, dedup --explain) ask the
// running service through its admin API while `unicat serve` holds the
// file: bbolt's lock keeps a second process out.

// locked reports whether another process holds the store's file lock.
func locked(path string) bool {
	db, err := bbolt.Open(path, 0o644, &bbolt.Options{ReadOnly: true, Timeout: 300 * time.Millisecond})
	if errors.Is(err, bberrors.ErrTimeout) {
		return true
	}
	if err == nil {
		db.Close()
	}
	return false
}

// adminError is an admin API answer other than 200.
type adminError struct {
	Request string // "POST http://127.0.0.1:8080/admin/backup"
	Status  int
	Text    string // the status line's text
	Message string // the API's "error", or the body
}

func (e *adminError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Request, e.Text, e.Message)
}

// adminCall sends a request to the running service's admin API at base
// (default http://http.addr) with the configured token, and returns the
// response when it is 200, else an *adminError. The caller closes the
// body.
func adminCall(ctx context.Context, cfg *config.Config, base, method, path string) (*http.Response, error) {
	if base == "" {
		base = "http://" + cfg.HTTP.Addr
	}
	token := cfg.AdminToken()
	if token == "" {
		return nil, fmt.Errorf("the store is in use by the service and no admin token is configured (admin.token or %s)", config.AdminTokenEnv)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	e := &adminError{Request: method + " " + base + path, Status: resp.StatusCode, Text: resp.Status, Message: string(body)}
	var answer struct{ Error string }
	if json.Unmarshal(body, &answer) == nil && answer.Error != "" {
		e.Message = answer.Error
	}
	return nil, e
}
