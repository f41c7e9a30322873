package sip_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip"
	"github.com/dialflow/dialflow/sip/siptest"
)

func testLogger() *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newPhone(t *testing.T, cfg siptest.PhoneConfig) *siptest.Phone {
	t.Helper()
	cfg.Logger = testLogger()
	p, err := siptest.NewPhone(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func newUA(t *testing.T, cfg sip.Config) *sip.UA {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.Logger = testLogger()
	u, err := sip.NewUA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return u
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func callErr(t *testing.T, err error) *sip.CallError {
	t.Helper()
	var ce *sip.CallError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *sip.CallError", err, err)
	}
	return ce
}
