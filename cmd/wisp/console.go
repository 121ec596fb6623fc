package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// consoleHandler prints log records for people: the message, then the
// attributes as key=value; a multi-line attribute value (the route list)
// is printed as is on the following lines.
type consoleHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
}

func newConsoleLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&consoleHandler{mu: &sync.Mutex{}, w: w, level: level})
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	var line strings.Builder
	var blocks []string
	if r.Level >= slog.LevelWarn {
		line.WriteString(r.Level.String() + ": ")
	}
	line.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		v := a.Value.String()
		if strings.Contains(v, "\n") {
			blocks = append(blocks, strings.TrimRight(v, "\n"))
		} else {
			fmt.Fprintf(&line, " %s=%q", a.Key, v)
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintln(h.w, line.String())
	for _, b := range blocks {
		fmt.Fprintln(h.w, b)
	}
	return err
}

func (h *consoleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &c
}

func (h *consoleHandler) WithGroup(string) slog.Handler { return h }
