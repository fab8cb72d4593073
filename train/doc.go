// Package train runs quantization-aware training: optimizers (SGD with
// momentum, Adam), learning-rate schedules, the epoch loop with evaluation,
// checkpoints with resume, post-training calibration, callbacks and progress
// output.
//
// Optimizers and schedules follow PyTorch's definitions (torch.optim.SGD,
// torch.optim.Adam, StepLR, CosineAnnealingLR) so that hyper-parameters carry
// over unchanged.
package train
