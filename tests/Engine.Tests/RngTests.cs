namespace Engine.Tests;

/// <summary>The seeded generator: reproducible streams, distinct seeds, valid permutations and ranges, restorable state, sane moments.</summary>
public class RngTests
{
    private static double[] Uniforms(Rng rng, int n) => Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
    private static double[] Normals(Rng rng, int n) => Enumerable.Range(0, n).Select(_ => rng.Normal()).ToArray();

    [Fact]
    public void SameSeedGivesTheSameStreams()
    {
        Assert.Equal(Uniforms(new Rng(42), 1000), Uniforms(new Rng(42), 1000));
        Assert.Equal(Normals(new Rng(42), 1001), Normals(new Rng(42), 1001));
        Assert.Equal(new Rng(42).Permutation(500), new Rng(42).Permutation(500));
        var (a, c) = (new Rng(9), new Rng(9));
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), c.NextUInt64());
    }

    [Fact]
    public void TheStreamIsFixedAcrossRunsAndMachines()
    {
        // xoshiro256** seeded by SplitMix64 from 0: the first SplitMix64 outputs are published reference values
        // (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, ...), so the first draw is determined; pin it so that a change to
        // the generator (which would silently change every seeded experiment) fails here.
        var rng = new Rng(0);
        ulong s1 = 0x6E789E6AA1B965F4UL;
        ulong expected = ulong.RotateLeft(s1 * 5, 7) * 9;
        Assert.Equal(expected, rng.NextUInt64());
    }

    [Fact]
    public void DifferentSeedsGiveDifferentStreams()
    {
        var u1 = Uniforms(new Rng(1), 100);
        var u2 = Uniforms(new Rng(2), 100);
        Assert.NotEqual(u1, u2);
        Assert.True(u1.Zip(u2).Count(p => p.First == p.Second) < 3);
        Assert.NotEqual(new Rng(1).Permutation(100), new Rng(2).Permutation(100));
        Assert.NotEqual(Normals(new Rng(1), 10), Normals(new Rng(2), 10));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1000)]
    public void PermutationIsAPermutation(int n)
    {
        var p = new Rng(5).Permutation(n);
        Assert.Equal(Enumerable.Range(0, n), p.Order());
        if (n >= 1000) Assert.NotEqual(Enumerable.Range(0, n), p); // shuffled, not the identity
    }

    [Fact]
    public void PermutationIsUnbiasedOverSmallN()
    {
        // All 6 orders of 3 items should each come up about 1/6 of the time.
        var rng = new Rng(11);
        var counts = new Dictionary<string, int>();
        const int draws = 60_000;
        for (int i = 0; i < draws; i++)
        {
            var key = string.Join(",", rng.Permutation(3));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.Equal(6, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, draws / 6 - 500, draws / 6 + 500)); // ±5σ is about ±450
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(1_000_000_007)]
    [InlineData(int.MaxValue)]
    public void NextIntStaysInRangeAndCoversSmallRanges(int n)
    {
        var rng = new Rng(13);
        var seen = new HashSet<int>();
        for (int i = 0; i < 5000; i++)
        {
            int v = rng.NextInt(n);
            Assert.InRange(v, 0, n - 1);
            seen.Add(v);
        }
        if (n <= 7) Assert.Equal(n, seen.Count);
        else Assert.True(seen.Count > 4900); // large ranges: almost no repeats
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void NextIntRejectsEmptyRanges(int n) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rng(1).NextInt(n));

    [Fact]
    public void UniformValuesLieInTheirInterval()
    {
        var rng = new Rng(17);
        var u = rng.UniformArray(10_000, -2, 3);
        Assert.All(u, v => Assert.InRange(v, -2, 3 - 1e-12));
        Assert.InRange(u.Average(), 0.5 - 0.05, 0.5 + 0.05);
        Assert.All(Uniforms(rng, 10_000), v => Assert.True(v >= 0 && v < 1));
    }

    [Fact]
    public void SavedStateReproducesTheContinuation()
    {
        var rng = new Rng(99);
        Uniforms(rng, 10);
        rng.Normal(); // leaves a spare normal deviate cached, which the state must carry
        var state = rng.State;
        var (normals, uniforms, perm, integer) = (Normals(rng, 5), Uniforms(rng, 5), rng.Permutation(20), rng.NextInt(1000));

        var restored = new Rng(12345); // any seed: the state replaces it
        restored.State = state;
        Assert.Equal(normals, Normals(restored, 5));
        Assert.Equal(uniforms, Uniforms(restored, 5));
        Assert.Equal(perm, restored.Permutation(20));
        Assert.Equal(integer, restored.NextInt(1000));

        // And restoring into the original rewinds it.
        rng.State = state;
        Assert.Equal(normals, Normals(rng, 5));
    }

    [Fact]
    public void NormalDrawsHaveMeanZeroAndUnitStd()
    {
        var rng = new Rng(2025);
        var x = Normals(rng, 100_000);
        double mean = x.Average();
        double std = Math.Sqrt(x.Select(v => (v - mean) * (v - mean)).Average());
        // Standard errors: 1/√n ≈ 0.0032 for the mean, 1/√(2n) ≈ 0.0022 for the std; allow about 5σ.
        Assert.InRange(mean, -0.016, 0.016);
        Assert.InRange(std, 1 - 0.012, 1 + 0.012);
        Assert.All(x, v => Assert.True(double.IsFinite(v)));
        // About 68.3 % within one σ.
        Assert.InRange(x.Count(v => Math.Abs(v) < 1) / 100_000.0, 0.678, 0.688);
    }

    [Fact]
    public void NormalArrayAppliesMeanAndStd()
    {
        var x = new Rng(3).NormalArray(50_000, 10, 0.5);
        Assert.InRange(x.Average(), 10 - 0.01, 10 + 0.01);
        double std = Math.Sqrt(x.Select(v => (v - 10) * (v - 10)).Average());
        Assert.InRange(std, 0.5 - 0.01, 0.5 + 0.01);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void RandomTensorsFollowTheHostStream(DType dtype)
    {
        var b = H.NewBackend();
        var t = b.Uniform(3, 4, dtype, new Rng(8), -1, 1);
        Assert.Equal((3, 4, dtype), (t.Rows, t.Cols, t.DType));
        Assert.Equal(H.Stored(new Rng(8).UniformArray(12, -1, 1), dtype), t.D());
        var n = b.Normal(2, 5, dtype, new Rng(8), 1, 2);
        Assert.Equal(H.Stored(new Rng(8).NormalArray(10, 1, 2), dtype), n.D());
        var p = b.Permutation(6, new Rng(8));
        Assert.Equal(DType.Int32, p.DType);
        Assert.Equal(new Rng(8).Permutation(6), p.ToArray<int>());
    }
}
