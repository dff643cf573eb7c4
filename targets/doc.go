// Package targets owns simval's embedded catalog of targets: one real deployment each
// (GPU × engine × model × resolved engine settings), with the profile bundle the
// simulator predicts it from and the recorded real baselines it is judged against,
// under targets/<name>/{target.yaml, profile/, baselines/<scenario>.json}.
//
// It reads embedded files only; it does not simulate, run engines or judge. Adding a
// target is adding a folder.
package targets
