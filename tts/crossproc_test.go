package tts

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"testing"
)

// helperEnv makes the test binary act as a second dialflow process that
// renders through a cache in the directory it names.
const helperEnv = "DIALFLOW_TTS_CACHE_HELPER_DIR"

// TestCacheHelperProcess is the body of the helper process; it does
// nothing in a normal run.
func TestCacheHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	c := mustCache(t, &countingEngine{}, dir, 4000)
	for i := 0; i < 200; i++ {
		text := "shared prompt " + strconv.Itoa(i%40)
		pcm, err := c.Synthesize(context.Background(), text, Voice{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := (&countingEngine{}).Synthesize(context.Background(), text, Voice{})
		if !reflect.DeepEqual(pcm, want) {
			t.Fatalf("%q: read a wrong or partial render", text)
		}
	}
	if st := c.Stats(); st.Corrupt != 0 || st.WriteErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCacheAcrossProcesses runs four processes on one cache directory
// with a small bound, so they write, read and evict the same files at
// once; none may read a partial file.
func TestCacheAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: starts processes")
	}
	dir := t.TempDir()
	cmds := make([]*exec.Cmd, 4)
	outs := make([]bytes.Buffer, len(cmds))
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestCacheHelperProcess$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), helperEnv+"="+dir)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}
}
