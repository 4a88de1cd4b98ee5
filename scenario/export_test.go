package scenario

// Limits the external tests check against.
const (
	MaxValues       = maxDecodeSteps
	MaxShownPerFile = maxShownPerFile
)
