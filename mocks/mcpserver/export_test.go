package mcpserver

// DelaysCancelled exposes to the external tests how many response delays a cancelled call
// cut short.
func DelaysCancelled(s *Server) int64 { return s.delaysCancelled.Load() }
