package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialflow/dialflow/api"
	"github.com/dialflow/dialflow/sip/siptest"
	"github.com/dialflow/dialflow/store"
)

// TestGracefulShutdownDrains: on shutdown dialflow stops dialing, lets the
// live calls finish their flows, and leaves the rest queued for next time.
func TestGracefulShutdownDrains(t *testing.T) {
	phone, err := siptest.NewPhone(siptest.PhoneConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	var data string
	ts := startTestServer(t, phone.TrunkURI(), func(c *serveConfig) { c.Capacity = 2; c.Drain = 20 * time.Second; data = c.Data })
	body := request("drain", `{"steps":[{"name":"pause","seconds":1.5}]}`, "", "+15550003001", "+15550003002", "+15550003003", "+15550003004")
	if code := ts.do("POST", "/call", body, nil); code != 200 {
		t.Fatalf("submit %d", code)
	}
	for deadline := time.Now().Add(10 * time.Second); phone.Active() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("calls did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ts.srv.close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(data, store.FileName), store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.RequestStatus(context.Background(), api.OwnerID("key-a"), "drain", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, d := range st.Details {
		counts[d.Status]++
		if d.Status == "completed" && (len(d.CallFlowSteps) != 1 || d.HangupCause != "normal") {
			t.Errorf("%s: drained call did not finish its flow: %+v", d.Destination, d)
		}
	}
	if counts["completed"] != 2 || counts["queued"] != 2 {
		t.Errorf("after shutdown: %v, want 2 completed (drained) and 2 still queued", counts)
	}
	if phone.Total() != 2 {
		t.Errorf("phone got %d calls; no call may start once shutdown began", phone.Total())
	}
}
