package dialer_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
)

// gatedStore is the real store whose answered write blocks until released;
// it logs the order in which the attempt's writes reach the database.
type gatedStore struct {
	*store.DB
	answerEntered chan struct{} // closed when the answered write starts
	release       chan struct{} // closed by the test to let it finish
	ended         chan struct{} // closed when EndAttempt has run

	mu  sync.Mutex
	ops []string
}

func (g *gatedStore) log(op string) {
	g.mu.Lock()
	g.ops = append(g.ops, op)
	g.mu.Unlock()
}

func (g *gatedStore) order() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.ops...)
}

func (g *gatedStore) MarkAttempt(ctx context.Context, pk int64, state string, at time.Time) error {
	if state == dialer.StateOngoing {
		close(g.answerEntered)
		<-g.release
	}
	err := g.DB.MarkAttempt(ctx, pk, state, at)
	g.log(state)
	return err
}

func (g *gatedStore) AddStep(ctx context.Context, pk int64, r flow.StepResult, at time.Time) error {
	g.log("step")
	return g.DB.AddStep(ctx, pk, r, at)
}

func (g *gatedStore) EndAttempt(ctx context.Context, e dialer.AttemptEnd) error {
	g.log("end")
	err := g.DB.EndAttempt(ctx, e)
	close(g.ended)
	return err
}

// Answered returns while its store write is still blocked, and the writes
// that follow it (a step, or the attempt's end) still land after it.
func TestAnsweredDoesNotWaitForStore(t *testing.T) {
	step := flow.StepResult{StepName: "play", StepPath: "steps[0]", Info: flow.StepInfo{Status: flow.StatusOK}}
	for _, tc := range []struct {
		name string
		step bool // the placer reports a step after the answer
		want []string
	}{
		{"step", true, []string{dialer.StateRinging, dialer.StateOngoing, "step", "end"}},
		{"end", false, []string{dialer.StateRinging, dialer.StateOngoing, "end"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.FileName), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			g := &gatedStore{DB: db, answerEntered: make(chan struct{}), release: make(chan struct{}), ended: make(chan struct{})}
			answered := make(chan struct{})
			placer := dialer.PlacerFunc(func(ctx context.Context, c dialer.Call, p dialer.Progress) (dialer.Result, error) {
				p.Ringing()
				p.Answered()
				close(answered)
				if tc.step {
					p.Step(step)
				}
				return dialer.Result{SIPCode: 200, HangupCause: dialer.CauseNormal, HangupBy: dialer.ByEngine}, nil
			})
			d, err := dialer.New(dialer.Config{Capacity: 1}, g, placer)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			body := requestBody("r", 1, "+8412", "")
			if _, _, err := d.Submit(context.Background(), "k", body, mustRequest(t, body)); err != nil {
				t.Fatal(err)
			}

			<-g.answerEntered
			select {
			case <-answered:
			case <-time.After(5 * time.Second):
				close(g.release)
				t.Fatal("Answered waited for the store write")
			}
			time.Sleep(50 * time.Millisecond) // give a wrong order the chance to show
			if got := g.order(); len(got) != 1 || got[0] != dialer.StateRinging {
				t.Fatalf("writes while the answer is blocked: %v, want only %q", got, dialer.StateRinging)
			}
			close(g.release)
			select {
			case <-g.ended:
			case <-time.After(10 * time.Second):
				t.Fatal("the attempt never ended")
			}
			got := g.order()
			if len(got) != len(tc.want) {
				t.Fatalf("write order %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("write order %v, want %v", got, tc.want)
				}
			}
			st, err := d.Status(context.Background(), "k", "r", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if dt := st.Details[0]; dt.Status != dialer.DestCompleted {
				t.Fatalf("destination %+v, want completed", dt)
			}
		})
	}
}
