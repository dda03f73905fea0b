import CPty
/// Smoke check that openpty links (replaced by the pty transport).
func _ptyLinks() -> Int32 { var m: Int32 = 0; var s: Int32 = 0; return openpty(&m, &s, nil, nil, nil) }
