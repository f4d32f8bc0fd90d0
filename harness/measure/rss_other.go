//go:build !unix

package measure

func peakRSS() int64 { return 0 }
