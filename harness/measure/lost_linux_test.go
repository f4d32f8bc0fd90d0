package measure

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"asdsl-bench/engine"
	"asdsl-bench/internal/testmodel"
)

// spinnerEnv makes the test binary a competing process: it pins itself to
// the CPU named and spins until killed (or for a minute, if orphaned).
const spinnerEnv = "ASDSL_TEST_SPIN_CPU"

func init() {
	cpu, err := strconv.Atoi(os.Getenv(spinnerEnv))
	if err != nil {
		return
	}
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(cpu)
	if unix.SchedSetaffinity(0, &set) != nil {
		os.Exit(2)
	}
	os.Stdout.WriteString("spinning\n")
	for start := time.Now(); time.Since(start) < time.Minute; {
	}
	os.Exit(0)
}

// A repetition whose math threads share their CPUs with spinning threads
// waits for them about half its time, and says so in TTFTLost and
// DecodeLost: the gate's evidence that such a sample measured the
// scheduler (a preemption in a 4 ms prefill hides in /proc/stat's 10 ms
// ticks over the whole repetition).
func TestRunSeesPreemptedThreads(t *testing.T) {
	// The small mock, not the golden model: its prefill takes tens of
	// milliseconds, many of the scheduler's slices, where the golden
	// model's 0.3 ms can fall inside one slice the math threads keep.
	s, err := testmodel.SmallQ4KM(t).NewSession(engine.SessionOptions{Context: 256, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	cpus := map[int]bool{}
	for _, w := range s.Workers() {
		if w.Pinned {
			cpus[w.CPU] = true
		}
	}
	if len(cpus) == 0 {
		t.Skip("math threads not pinned: nothing to compete with")
	}
	// Competitors are other processes, as on a loaded host: goroutines
	// here would compete for the Go scheduler's Ps, and a math thread
	// waiting for a P sleeps rather than waits on the OS run queue.
	for cpu := range cpus {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), spinnerEnv+"="+strconv.Itoa(cpu))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		buf := make([]byte, 9)
		if n, _ := out.Read(buf); string(buf[:n]) != "spinning\n" {
			t.Skipf("the competing process could not pin itself to CPU %d", cpu)
		}
	}
	r, err := Run(s, Options{Prompt: 128, Generate: 32, Reps: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, smp := range r.Samples {
		t.Logf("sample %d: TTFT %.2f ms lost %.2f, decode %.0f t/s lost %.2f, machine %.2f", i, smp.TTFTms, smp.TTFTLost, smp.DecodeTPS, smp.DecodeLost, smp.Disturbance)
		// Each thread waits about half the time, so their sum is about
		// the whole; a fifth leaves room for a scheduler that favours
		// the woken math threads.
		if smp.TTFTLost < 0.2 || smp.DecodeLost < 0.2 {
			t.Errorf("sample %d: threads sharing their CPUs with spinners lost %.2f of the prefill and %.2f of the decode", i, smp.TTFTLost, smp.DecodeLost)
		}
		if smp.TTFTDisturbance() < smp.TTFTLost || smp.DecodeDisturbance() < smp.DecodeLost {
			t.Errorf("sample %d: disturbance below the lost share", i)
		}
	}
}
