package machine

import (
	"runtime"

	"github.com/klauspost/cpuid/v2"
)

// CPU is what the processor says about itself.
type CPU struct {
	Brand    string
	Vendor   string
	Family   int
	Model    int
	Physical int      // physical cores reported by CPUID
	Logical  int      // logical CPUs reported by CPUID
	OSCPUs   int      // CPUs this process may use
	L1D, L2  int      // bytes per core
	L3       int      // bytes
	Features []string // the ones that matter for the kernels
}

// Features the kernels care about, in the order shown.
var interesting = []cpuid.FeatureID{
	cpuid.SSE4, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.F16C, cpuid.AVXVNNI,
	cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512VNNI, cpuid.AVX512BF16,
	cpuid.HYBRID_CPU,
}

// DetectCPU reads the CPU's identification and features.
func DetectCPU() CPU {
	c := cpuid.CPU
	out := CPU{
		Brand: c.BrandName, Vendor: c.VendorString, Family: c.Family, Model: c.Model,
		Physical: c.PhysicalCores, Logical: c.LogicalCores, OSCPUs: runtime.NumCPU(),
		L1D: c.Cache.L1D, L2: c.Cache.L2, L3: c.Cache.L3,
	}
	for _, f := range interesting {
		if c.Supports(f) {
			out.Features = append(out.Features, f.String())
		}
	}
	return out
}
