// The commands write to the process's console, which some tests capture: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
