package webhook_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/api"
	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/webhook"
)

// seedChannel plays the seed example's callee: it presses 1 at the first
// menu and nothing afterwards, so the nested gather falls to its default.
type seedChannel struct{ gathers int }

func (c *seedChannel) Play(context.Context, flow.Prompt) error { return nil }
func (c *seedChannel) Gather(context.Context, flow.Prompt, flow.GatherOptions) (flow.Digits, error) {
	c.gathers++
	if c.gathers == 1 {
		return flow.Digits{Keys: "1", Each: []flow.DigitInfo{{Digit: "1", Method: "rfc4733", AtMs: 1200}}}, nil
	}
	return flow.Digits{}, nil
}
func (c *seedChannel) Transfer(context.Context, flow.Transfer) (string, error) {
	return flow.TransferAnswered, nil
}
func (c *seedChannel) Pause(context.Context, time.Duration) error { return nil }
func (c *seedChannel) Hangup(context.Context) error               { return nil }

// recordingBytes is a one-second stereo 8 kHz 16-bit file (44-byte header).
const recordingBytes = 44 + 8000*2*2

// seedPlacer rings, answers, runs the real interpreter over seedChannel,
// writes the recording and hangs up: every piece but SIP is real.
func seedPlacer(ctx context.Context, c dialer.Call, p dialer.Progress) (dialer.Result, error) {
	p.Ringing()
	p.Answered()
	res := flow.Run(ctx, c.Flow, &seedChannel{}, flow.RunOptions{OnStep: p.Step})
	if res.Err != nil {
		return dialer.Result{SIPCode: 200}, res.Err
	}
	if c.RecordingPath != "" {
		wav := append([]byte("RIFF"), bytes.Repeat([]byte{1}, recordingBytes-4)...)
		if err := os.WriteFile(c.RecordingPath, wav, 0o600); err != nil {
			return dialer.Result{}, err
		}
	}
	return dialer.Result{SIPCode: 200, HangupCause: dialer.CauseNormal, HangupBy: dialer.ByEngine, Recorded: c.RecordingPath != ""}, nil
}

// The seed example call, through the real dialer, SQLite store and
// Deliverer, reaches a real loopback receiver as the expected signed event
// sequence with increasing sequences and the seed's call fields.
func TestSeedCallEventSequence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openStore(t, dir)
	rx := newHookReceiver(t, nil)
	recDir := filepath.Join(dir, "recordings")
	if err := os.MkdirAll(recDir, 0o700); err != nil {
		t.Fatal(err)
	}
	d, err := dialer.New(dialer.Config{Capacity: 2, RecordingDir: recDir}, db, dialer.PlacerFunc(seedPlacer))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, stop := runDeliverer(t, webhook.Config{Outbox: db, Poll: 10 * time.Millisecond})
	defer stop()

	body, err := os.ReadFile("../examples/payment-reminder/request.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	doc["callbackUrl"] = rx.url()
	body, _ = json.Marshal(doc)
	req, probs := flow.CheckRequest(body, flow.ValidateOptions{})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, _, err := d.Submit(ctx, api.OwnerID(apiKey), body, req); err != nil {
		t.Fatal(err)
	}

	want := []string{"queued", "dialing", "ringing", "answered", "step", "dtmf", "step", "step", "step", "ended", "recording"}
	waitFor(t, "both calls' events", func() bool { return len(rx.deliveries()) >= 2*len(want) })
	calls := perCall(t, rx.deliveries())
	if len(calls) != 2 {
		t.Fatalf("events of %d calls, want 2", len(calls))
	}
	checkSequences(t, calls)
	ids := map[string]bool{}
	for k, ds := range calls {
		if got := strings.Join(types(ds), ","); got != strings.Join(want, ",") {
			t.Fatalf("%s: event types %s\nwant %s", k, got, strings.Join(want, ","))
		}
		callID := ds[1].body["callId"]
		for i, ev := range ds {
			b := ev.body
			if ids[ev.id] {
				t.Errorf("eventId %s used twice", ev.id)
			}
			ids[ev.id] = true
			if b["requestId"] != "request_10" || b["caller"] != "+6582674904" || !strings.HasPrefix(k, "request_10/+849") ||
				b["destination"] == "" || b["timestamp"] == nil {
				t.Errorf("%s event %d: common fields %s", k, i, ev.raw)
			}
			if i > 0 && (b["callId"] != callID || b["attempt"] != 1.0) {
				t.Errorf("%s event %d (%s): callId %v attempt %v, want %v and 1", k, i, b["type"], b["callId"], b["attempt"], callID)
			}
		}
		if dt := ds[5].body["dtmf"].(map[string]any); dt["digit"] != "1" || dt["method"] != "rfc4733" || dt["stepPath"] != "steps[1]" {
			t.Errorf("%s dtmf event %s", k, ds[5].raw)
		}
		if st := ds[6].body["step"].(map[string]any); st["stepName"] != "gather" ||
			st["info"].(map[string]any)["userPressedDigits"] != "1" {
			t.Errorf("%s gather step event %s", k, ds[6].raw)
		}
		end := ds[9].body
		for _, f := range []string{"dialedAt", "ringingAt", "answeredAt", "endedAt", "durationSec", "billSec", "recordingUrl"} {
			if end[f] == nil {
				t.Errorf("%s ended event lacks %s: %s", k, f, ds[9].raw)
			}
		}
		if end["hangupCause"] != "normal" || end["hangupBy"] != "engine" || end["call_status"] != "answered" ||
			end["sipCode"] != 200.0 || end["recordingUrl"] != "/recordings/"+callID.(string)+".wav" {
			t.Errorf("%s ended event %s", k, ds[9].raw)
		}
		if dd, _ := json.Marshal(end["digitsDialed"]); string(dd) != `["1"]` {
			t.Errorf("%s digitsDialed %s", k, dd)
		}
		var paths []string
		for _, p := range end["callFlow"].([]any) {
			paths = append(paths, p.(map[string]any)["stepPath"].(string))
		}
		if got := strings.Join(paths, " "); got != "steps[0] steps[1] steps[1].branches[0].steps[0] steps[1].branches[0].steps[0].branches[0].steps[0]" {
			t.Errorf("%s callFlow path %s", k, got)
		}
		file, err := os.ReadFile(filepath.Join(recDir, callID.(string)+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(file)
		rec := ds[10].body["recording"].(map[string]any)
		if rec["size"] != float64(recordingBytes) || rec["sha256"] != hex.EncodeToString(sum[:]) || rec["durationSec"] != 1.0 ||
			rec["url"] != end["recordingUrl"] {
			t.Errorf("%s recording event %s", k, ds[10].raw)
		}
	}
}

// The receiver is down (connection refused) while calls happen, then comes
// back on the same address: every event arrives, in order per call, and
// none twice under different ids.
func TestReceiverDownThenUpRealOutbox(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: nothing listens
	url := "http://" + addr + "/hook"

	_, stop := runDeliverer(t, webhook.Config{Outbox: db, Poll: 5 * time.Millisecond,
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Concurrency: 3})
	defer stop()
	const nCalls = 4
	if err := storeCalls(ctx, db, "down-up", url, nCalls); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failed attempts while down", func() bool {
		p, err := db.ListEvents(ctx, api.OwnerID(apiKey), "down-up", 0, 100)
		return err == nil && p.Events[0].Attempts >= 3
	})
	p, _ := db.ListEvents(ctx, api.OwnerID(apiKey), "down-up", 0, 100)
	for _, e := range p.Events {
		if e.State != webhook.StatePending {
			t.Fatalf("event %s is %s while the receiver is down", e.EventID, e.State)
		}
	}

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen again on %s: %v", addr, err)
	}
	rx := newHookReceiver(t, ln)
	waitFor(t, "every event", func() bool {
		return len(perCall(t, rx.deliveries())) == nCalls && countDistinct(t, rx) == nCalls*eventsPerStoredCall
	})
	calls := perCall(t, rx.deliveries())
	checkSequences(t, calls)
	waitFor(t, "all marked delivered", func() bool {
		p, err := db.ListEvents(ctx, api.OwnerID(apiKey), "down-up", 0, 100)
		if err != nil {
			return false
		}
		for _, e := range p.Events {
			if e.State != webhook.StateDelivered {
				return false
			}
		}
		return len(p.Events) == nCalls*eventsPerStoredCall
	})
}

func countDistinct(tb testing.TB, rx *hookReceiver) int {
	n := 0
	for _, ds := range perCall(tb, rx.deliveries()) {
		n += len(ds)
	}
	return n
}

// Receivers that answer 500, time out or redirect are retried, then the
// events are dead-lettered and GET /events shows it; redelivery through the
// API sends the same event again once the receiver is fixed.
func TestFailingReceiversDeadLetterVisibleThroughAPI(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	fail500 := newHookReceiver(t, nil)
	var fixed chan struct{} = make(chan struct{})
	fail500.setGate(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		select {
		case <-fixed:
			return false
		default:
		}
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	slow := newHookReceiver(t, nil)
	slow.setGate(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		<-r.Context().Done() // never answers: the sender's timeout fires
		return true
	})
	redirect := newHookReceiver(t, nil)
	redirect.setGate(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		http.Redirect(w, r, fail500.url(), http.StatusFound)
		return true
	})
	for id, url := range map[string]string{"r500": fail500.url(), "rslow": slow.url(), "rredirect": redirect.url()} {
		if err := storeCalls(ctx, db, id, url, 1); err != nil {
			t.Fatal(err)
		}
	}
	wh, stop := runDeliverer(t, webhook.Config{Outbox: db, Poll: 5 * time.Millisecond, Timeout: 150 * time.Millisecond,
		BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAge: 400 * time.Millisecond})
	defer stop()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Listener: ln, Keys: []string{apiKey, "other-key-0123"}, Backend: noBackend{}, Events: db,
		Redelivered: wh.Notify})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx) }()
	defer func() { cancel(); <-done }()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	call := func(method, path, key string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+srv.Addr().String()+path, nil)
		req.Header.Set(api.HeaderAPIKey, key)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		return res.StatusCode, buf.Bytes()
	}
	page := func(id string) webhook.Page {
		t.Helper()
		code, b := call(http.MethodGet, "/events?requestId="+id, apiKey)
		var p webhook.Page
		if code != http.StatusOK || json.Unmarshal(b, &p) != nil {
			t.Fatalf("GET /events %s: %d %s", id, code, b)
		}
		return p
	}
	wantErr := map[string]string{"r500": "500", "rslow": "no answer within 150ms", "rredirect": "302 (redirects are not followed)"}
	for id, frag := range wantErr {
		waitFor(t, id+" dead-lettered", func() bool {
			for _, e := range page(id).Events {
				if e.State != webhook.StateDead {
					return false
				}
			}
			return true
		})
		p := page(id)
		if len(p.Events) != eventsPerStoredCall {
			t.Fatalf("%s: %d events", id, len(p.Events))
		}
		head := p.Events[0]
		if head.Attempts < 2 || !strings.Contains(head.LastError, frag) || head.DeliveredAt != nil {
			t.Errorf("%s: first event dead after %d attempts with %q; want retries and an error naming %q", id, head.Attempts, head.LastError, frag)
		}
	}
	if n := len(fail500.deliveries()) + len(slow.deliveries()) + len(redirect.deliveries()); n != 0 {
		t.Fatalf("%d events accepted by failing receivers", n)
	}
	if code, _ := call(http.MethodGet, "/events?requestId=r500", "other-key-0123"); code != http.StatusNotFound {
		t.Fatalf("another key reads the events: %d", code)
	}

	// The receiver is fixed; the owner redelivers the first event.
	close(fixed)
	head := page("r500").Events[0]
	if code, b := call(http.MethodPost, "/events/"+head.EventID+"/redeliver", "other-key-0123"); code != http.StatusNotFound {
		t.Fatalf("another key redelivers: %d %s", code, b)
	}
	if code, b := call(http.MethodPost, "/events/"+head.EventID+"/redeliver", apiKey); code != http.StatusOK {
		t.Fatalf("redeliver: %d %s", code, b)
	}
	waitFor(t, "redelivered event delivered", func() bool { return page("r500").Events[0].State == webhook.StateDelivered })
	got := fail500.deliveries()
	if len(got) != 1 || got[0].id != head.EventID || !bytes.Equal(got[0].raw, head.Body) {
		t.Fatalf("receiver got %d deliveries; want exactly the redelivered event %s as stored", len(got), head.EventID)
	}
	if p := page("r500"); p.Events[0].Redeliveries != 1 || p.Events[1].State != webhook.StateDead {
		t.Fatalf("after redelivery: %+v / %+v", p.Events[0], p.Events[1])
	}
}

// noBackend is an api.Backend for a server that only serves events.
type noBackend struct{ api.Backend }

func (noBackend) Ready(context.Context) error { return nil }
