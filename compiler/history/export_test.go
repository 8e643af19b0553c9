package history

// WithoutMentionIndex turns the mention index off until the returned func
// is called: every changed file version is then read, as before the index.
func WithoutMentionIndex() (restore func()) {
	saved := blobMentions
	blobMentions = nil
	return func() { blobMentions = saved }
}

// MentionIndexLen is how many file versions the mention index holds.
func MentionIndexLen() int { return blobMentions.len() }
