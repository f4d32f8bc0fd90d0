package phases

import (
	"strings"

	"asdsl-bench/kernels"
)

// kernelTwinCheck: every SIMD kernel the CPU can run equals its Go twin
// (kernels.VerifyTwins, which the kernels' own tests run too).
var kernelTwinCheck = Check{Name: "SIMD kernels equal their Go twins (every ISA here)", Run: func(env *Env) (string, error) {
	var tried []string
	for _, isa := range kernels.ISAs() {
		if !isa.Supported || isa.Name == "generic" {
			continue
		}
		o, err := kernels.Select(isa.Name, -1)
		if err != nil {
			return "", err
		}
		if err := kernels.VerifyTwins(o, 5); err != nil {
			return "", err
		}
		tried = append(tried, isa.Name)
	}
	return "bit-identical: " + strings.Join(append(tried, "generic (reference)"), ", "), nil
}}
