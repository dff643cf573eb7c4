// Package targets owns simval's embedded catalog of targets: one real deployment each
// (GPU × engine × model × resolved engine settings), with the profile bundle the
// simulator predicts it from and the recorded real baselines it is judged against,
// under targets/<name>/{target.yaml, profile/, baselines/<scenario>.json}.
//
// Targets of a user's catalog folders (DIR/targets/<name>/, package catalogdirs) join
// the embedded ones; a name defined twice is an error naming both files, and Lookup
// reads only the named target's folder, so a broken target breaks only itself. It
// does not simulate, run engines or judge. Adding a target is adding a folder.
package targets
