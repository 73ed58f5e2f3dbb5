using Engine.Cpu;

namespace Engine.Tests;

public class GemmChoiceTests
{
    private static string TempFile() => Path.Combine(Directory.CreateTempSubdirectory("sea-gemm-").FullName, "choice.txt");

    [Fact]
    public void The_faster_provider_is_measured_once_and_kept_for_the_same_machine()
    {
        string file = TempFile();
        int timings = 0;
        double Slow(bool openBlas) { timings++; return openBlas ? 3.0 : 1.0; }
        var first = GemmChoice.Decide(true, null, file, "cpu A", Slow);
        Assert.False(first.UseOpenBlas);
        Assert.Equal("measured 3.0× faster than OpenBLAS on this machine", first.Reason);
        Assert.Equal(12, timings); // a warm-up round and five measured ones, each timing both providers

        // The same machine reads the file and does not measure again, even if timings would now say otherwise.
        var second = GemmChoice.Decide(true, null, file, "cpu A", openBlas => { timings++; return openBlas ? 1.0 : 3.0; });
        Assert.False(second.UseOpenBlas);
        Assert.StartsWith("measured 3.0× faster than OpenBLAS on this machine, cached in ", second.Reason);
        Assert.Equal(12, timings);

        // Another machine measures afresh.
        var other = GemmChoice.Decide(true, null, file, "cpu B", openBlas => openBlas ? 1.0 : 2.0);
        Assert.True(other.UseOpenBlas);
        Assert.Equal("measured 2.0× faster than the managed kernel on this machine", other.Reason);
    }

    [Fact]
    public void Providers_alternate_and_neither_the_warm_up_nor_a_slow_spell_decides()
    {
        var calls = new List<bool>();
        int managedCalls = 0;
        // The managed kernel is faster (1 against 2), but OpenBLAS wins the warm-up round and the machine stalls
        // during one of the managed rounds.
        double Timing(bool openBlas)
        {
            calls.Add(openBlas);
            if (openBlas) return calls.Count == 1 ? 0.001 : 2.0;
            return ++managedCalls == 3 ? 100 : 1.0;
        }
        var choice = GemmChoice.Decide(true, null, TempFile(), "cpu", Timing);
        Assert.False(choice.UseOpenBlas);
        Assert.Equal("measured 2.0× faster than OpenBLAS on this machine", choice.Reason);
        Assert.Equal([true, false, false, true, true, false, false, true, true, false, false, true], calls);
    }

    [Fact]
    public void SEA_BLAS_and_a_missing_OpenBLAS_decide_without_measuring()
    {
        double Never(bool _) => throw new InvalidOperationException("measured");
        Assert.Equal((true, "SEA_BLAS=openblas"), GemmChoice.Decide(true, "OpenBLAS", TempFile(), "cpu", Never));
        Assert.Equal((false, "OpenBLAS is not available"), GemmChoice.Decide(false, null, TempFile(), "cpu", Never));
    }
}
