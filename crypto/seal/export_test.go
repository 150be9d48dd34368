package seal

// MaxIdentityFile exposes the identity file bound to the tests.
const MaxIdentityFile = maxIdentityFile
