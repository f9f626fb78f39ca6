package harvester

import (
	"context"
	"log/slog"
)

// A source's secrets (its URL's password and secret parameters:
// config.Source.Redact) never leave a harvest: what a run stores (its
// error and notes), returns and logs is redacted here, so that drivers
// may name their URLs freely.

// redactedError is an error whose text is redacted; errors.Is and As
// still see what it wraps.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr returns err with its text redacted by redact.
func redactErr(err error, redact func(string) string) error {
	if err == nil {
		return nil
	}
	msg := redact(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactHandler is a slog.Handler writing every message and attribute
// value (strings, errors, anything formatted) redacted.
type redactHandler struct {
	h      slog.Handler
	redact func(string) string
}

func newRedactLogger(l *slog.Logger, redact func(string) string) *slog.Logger {
	return slog.New(&redactHandler{h: l.Handler(), redact: redact})
}

func (r *redactHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return r.h.Enabled(ctx, level)
}

func (r *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, r.redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.attr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = r.attr(a)
	}
	return &redactHandler{h: r.h.WithAttrs(red), redact: r.redact}
}

func (r *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{h: r.h.WithGroup(name), redact: r.redact}
}

// attr redacts an attribute's value: a group's members, and any other
// value as the text it is written as.
func (r *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, m := range g {
			red[i] = r.attr(m)
		}
		return slog.Group(a.Key, red...)
	case slog.KindString:
		return slog.String(a.Key, r.redact(v.String()))
	case slog.KindAny:
		s := v.String() // errors and Stringers as they would be written
		if red := r.redact(s); red != s {
			return slog.String(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
