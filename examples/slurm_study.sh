#!/bin/bash
# Two ways to run a kadanoff study on a SLURM cluster.  Submit with:  sbatch examples/slurm_study.sh
#
# (A) one MPI job: rank 0 schedules points over all other ranks (mpi4py.futures).
#SBATCH --job-name=kadanoff-study
#SBATCH --ntasks=32
#SBATCH --time=02:00:00
#SBATCH --output=kadanoff-%j.log

set -euo pipefail
# module load python mpi      # site specific; mpi4py must match the MPI that srun/mpiexec uses
srun python -m mpi4py.futures -m kadanoff.cli run examples/study.toml --executor mpi --resume
# --resume: if the job is requeued or killed, points already in the output file are kept and
# points with a checkpoint (checkpoint_every in the TOML) continue bit-identically.

# (B) a job array instead: each task runs the points i with i % N == SLURM_ARRAY_TASK_ID
# into <output>.task<K>.h5, on the cores of one node (no MPI needed):
#
#   #SBATCH --array=0-7
#   #SBATCH --cpus-per-task=8
#   kadanoff run examples/study.toml --workers "$SLURM_CPUS_PER_TASK" --resume
#
# kadanoff reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT itself; every point gets the same
# random stream as in the single-job run, so the union of the task files equals (A).
# Inspect any output with:  kadanoff info ising_study.h5
