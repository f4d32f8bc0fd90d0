//go:build !unix

package measure

func peakRSS() int64 { return 0 }

func resetPeakRSS() bool { return false }
