"""M3W: web pages -> interleaved documents with <image> and <EOC> (Flamingo section 2.4, appendix A.3)."""
