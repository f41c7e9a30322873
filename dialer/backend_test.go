package dialer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/store"
)

func TestSubmitIdempotentConflictAndOwnership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(6, long)
		r := newRig(t, "", dialer.Config{Capacity: 6}, fp)
		defer r.close()
		ctx := context.Background()
		body := requestBody("same", 2, "+8411", "")
		r.submit("alice", body)
		synctest.Wait()
		st, created, err := r.d.Submit(ctx, "alice", body, mustRequest(t, body))
		if err != nil || created || st.Status != dialer.RequestOnProgress || st.Details[0].Status != dialer.DestOnProgress {
			t.Fatalf("same body again: created=%v err=%v status=%+v", created, err, st)
		}
		other := requestBody("same", 3, "+8411", "")
		if _, _, err := r.d.Submit(ctx, "alice", other, mustRequest(t, other)); !errors.Is(err, dialer.ErrConflict) {
			t.Fatalf("other body: err = %v, want ErrConflict", err)
		}
		if _, err := r.d.Status(ctx, "bob", "same", 0, 0); !errors.Is(err, dialer.ErrNotFound) {
			t.Fatalf("bob reads alice's request: err = %v", err)
		}
		if _, err := r.d.Cancel(ctx, "bob", "same"); !errors.Is(err, dialer.ErrNotFound) {
			t.Fatalf("bob cancels alice's request: err = %v", err)
		}
		// bob may use the same requestId for his own request.
		r.submit("bob", other)
		synctest.Wait()
		if _, _, _, dials := fp.snapshot(); dials != 5 {
			t.Fatalf("%d dials, want 5 (each destination once)", dials)
		}
		if _, err := r.d.SetExternalBusy(ctx, -1); !errors.Is(err, dialer.ErrInvalid) {
			t.Fatalf("negative externalBusy: err = %v", err)
		}
		if err := r.d.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
		r.d.Close()
		if err := r.d.Ready(ctx); !errors.Is(err, dialer.ErrClosed) {
			t.Fatalf("ready after close: %v", err)
		}
		if _, _, err := r.d.Submit(ctx, "alice", body, mustRequest(t, body)); !errors.Is(err, dialer.ErrClosed) {
			t.Fatalf("submit after close: %v", err)
		}
	})
}

func TestCallsPerSecondCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(20, long)
		r := newRig(t, "", dialer.Config{Capacity: 20, CallsPerSecond: 2}, fp)
		defer r.close()
		r.submit("k", requestBody("cps", 10, "+8411", ""))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		var starts []time.Time
		synctest.Wait()
		for _, ts := range fp.dialTimes {
			starts = append(starts, ts...)
		}
		slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
		if len(starts) != 10 {
			t.Fatalf("%d calls started in 10 s at 2 cps, want 10", len(starts))
		}
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap < 500*time.Millisecond {
				t.Fatalf("calls %d and %d started %s apart, want ≥ 500ms", i-1, i, gap)
			}
		}
		if span := starts[9].Sub(starts[0]); span > 5*time.Second {
			t.Fatalf("10 calls took %s to start at 2 cps", span)
		}
	})
}

func TestRecordingIsServedToItsOwnerOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		recDir := t.TempDir()
		placer := dialer.PlacerFunc(func(ctx context.Context, c dialer.Call, p dialer.Progress) (dialer.Result, error) {
			p.Answered()
			wav := append(make([]byte, 44), make([]byte, 32000)...) // header + one second of stereo 8 kHz
			if err := os.WriteFile(c.RecordingPath, wav, 0o600); err != nil {
				return dialer.Result{}, err
			}
			return dialer.Result{SIPCode: 200, Recorded: true}, nil
		})
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.FileName), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		d, err := dialer.New(dialer.Config{RecordingDir: recDir}, db, placer)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ctx := context.Background()
		body := requestBody("rec", 1, "+8411", `"enableCallRecording": true`)
		if _, _, err := d.Submit(ctx, "k", body, mustRequest(t, body)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		st, _ := d.Status(ctx, "k", "rec", 0, 0)
		det := st.Details[0]
		callID := det.MonitorData[0].UUID
		if det.RecordingURL != "/recordings/"+callID+".wav" {
			t.Fatalf("recordingUrl %q for call %s", det.RecordingURL, callID)
		}
		p, err := d.RecordingPath(ctx, "k", callID)
		if err != nil || p != filepath.Join(recDir, callID+".wav") {
			t.Fatalf("recording path %q, %v", p, err)
		}
		if _, err := d.RecordingPath(ctx, "other", callID); !errors.Is(err, dialer.ErrNotFound) {
			t.Fatalf("other owner: %v", err)
		}
		if _, err := d.RecordingPath(ctx, "k", "no-such-call"); !errors.Is(err, dialer.ErrNotFound) {
			t.Fatalf("unknown call: %v", err)
		}
		os.Remove(p)
		if _, err := d.RecordingPath(ctx, "k", callID); !errors.Is(err, dialer.ErrNotFound) {
			t.Fatalf("deleted file: %v", err)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []dialer.Config{{Capacity: -1}, {CallsPerSecond: -1}, {CapacityBackoff: -time.Second}} {
		if _, err := dialer.New(cfg, nil, nil); !errors.Is(err, dialer.ErrInvalid) {
			t.Errorf("New(%+v): err = %v, want ErrInvalid", cfg, err)
		}
	}
}
