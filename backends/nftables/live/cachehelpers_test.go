package live

// Cache helpers only the tests use.

// writeCacheInputs is writeCacheState without a structure digest.
func writeCacheInputs(nonce []byte, genid uint32, sets map[string]*SetContent, v6 map[string]bool, inputs []byte) bool {
	return writeCacheState(nonce, genid, [32]byte{}, sets, v6, inputs)
}

// loadCache returns the cache for nonce if it was written at generation
// genid, else nil.
func loadCache(nonce []byte, genid uint32) *cacheFile {
	f, _ := loadTrustedCache(nonce, genid)
	return f
}

// loadTrustedCache is loadCache that also says when the cache exists but
// is not trusted (an *UntrustedError: its dir or file is writable by
// others).
func loadTrustedCache(nonce []byte, genid uint32) (*cacheFile, error) {
	f, err := loadTrustedCacheAny(nonce)
	if f != nil && f.genid != genid {
		f = nil
	}
	return f, err
}

// loadInputRecord returns the input record of the cache entry for nonce
// when it was written at genid.
func loadInputRecord(nonce []byte, genid uint32) *InputRecord {
	rec, g, _ := loadInputHead(nonce)
	if g != genid {
		return nil
	}
	return rec
}
