/** The simulated runner installation now lives with the simulated gateway, where the demo uses it too. */
export { writeSimRunnerInstallation, type SimRunnerInstallation } from '@gha-slurm/gateway-sim/sim-runner';
