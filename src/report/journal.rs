//! Journal entries of a close (filled in below).
