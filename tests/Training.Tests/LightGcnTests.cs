using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Models;

namespace Engine.Training.Tests;

public class LightGcnTests
{
    /// <summary>The two penalty forms against their formulas, computed directly from the layer-0 embeddings.</summary>
    [Theory]
    [InlineData(RegForm.Squared)]
    [InlineData(RegForm.Norm)]
    public void The_penalty_matches_its_formula(RegForm form)
    {
        var b = CpuBackend.Shared;
        var (adjacency, _, _, batch) = ModelGradCheckCases.TinyProblem(b, new Rng(1));
        var withReg = new LightGcn(b, 5, 6, adjacency, 2, regWeight: 0.3, new Rng(2), 3, DType.Float64, form);
        var without = new LightGcn(b, 5, 6, adjacency, 2, regWeight: 0, new Rng(2), 3, DType.Float64, form);
        double penalty = withReg.Loss(batch).Value.Item() - without.Loss(batch).Value.Item();

        var users = withReg.Parameters[0].Value.ToArray<double>();
        var items = withReg.Parameters[1].Value.ToArray<double>();
        double SquaredNorm(double[] table, int[] rows) => rows.Sum(r => Enumerable.Range(0, 3).Sum(c => table[r * 3 + c] * table[r * 3 + c]));
        double[] squared = [SquaredNorm(users, batch.Users), SquaredNorm(items, batch.PositiveItems), SquaredNorm(items, batch.NegativeItems)];
        double expected = form == RegForm.Squared
            ? 0.3 * squared.Sum() / (2 * batch.Count)
            : 0.3 * squared.Sum(Math.Sqrt) / batch.Count;
        Assert.Equal(expected, penalty, 12);
    }
}
