// The translation unit that owns the precompiled header (see cmake/Library.cmake).
