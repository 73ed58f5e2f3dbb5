using Engine.Autograd;
using Engine.Training.Checkpoints;

namespace Engine.Training.Optim;

/// <summary>Updates parameters from their accumulated gradients.</summary>
public abstract class Optimizer(IReadOnlyList<Var> parameters)
{
    public IReadOnlyList<Var> Parameters { get; } = Validate(parameters);

    /// <summary>Learning rate; schedules change it between steps.</summary>
    public abstract double LearningRate { get; set; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public abstract void Step();

    /// <summary>Walks the optimiser's own state (moments, step count) for checkpoints, under names starting with <paramref name="prefix"/>.</summary>
    public virtual void VisitState(string prefix, IStateVisitor visitor)
    {
    }

    /// <summary>Zeroes every parameter's gradient before the next backward pass.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    private static IReadOnlyList<Var> Validate(IReadOnlyList<Var> parameters)
    {
        foreach (var p in parameters)
            if (!p.RequiresGrad)
                throw new EngineException("Optimizer", $"{p} does not require a gradient, so it cannot be optimised");
        return parameters;
    }
}

/// <summary>
/// Adam with PyTorch's semantics (torch.optim.Adam): bias-corrected moments, ε added outside the square root, and
/// optional L2 weight decay added to the gradient (not decoupled as in AdamW).
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor?[] firstMoment;
    private readonly Tensor?[] secondMoment;

    public Adam(IReadOnlyList<Var> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0) : base(parameters)
    {
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        firstMoment = new Tensor?[parameters.Count];
        secondMoment = new Tensor?[parameters.Count];
    }

    public override double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    /// <summary>Steps taken so far (the t of the bias corrections).</summary>
    public int StepCount { get; private set; }

    /// <summary>
    /// Both moments of every parameter and the step count. Moments not allocated yet are allocated as zeros, which is
    /// what <see cref="Step"/> would start them from, so a restored optimiser steps exactly as the saved one.
    /// </summary>
    public override void VisitState(string prefix, IStateVisitor visitor)
    {
        StepCount = visitor.Value($"{prefix}.step", StepCount);
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            var (first, second) = Moments(i);
            visitor.Tensor($"{prefix}.m.{i}", first);
            visitor.Tensor($"{prefix}.v.{i}", second);
        }
    }

    /// <summary>Parameter i's first and second moments (zeros until a step uses them), for ops that run Adam's arithmetic themselves.</summary>
    public (Tensor First, Tensor Second) Moments(int index)
    {
        var p = Parameters[index];
        return (firstMoment[index] ??= p.Backend.Allocate(p.Rows, p.Cols, p.DType), secondMoment[index] ??= p.Backend.Allocate(p.Rows, p.Cols, p.DType));
    }

    /// <summary>Counts <paramref name="steps"/> steps that such an op took on every parameter.</summary>
    public void CountSteps(int steps) => StepCount += steps;

    public override void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad is null) continue; // as PyTorch: a parameter without a gradient is left alone
            var (first, second) = Moments(i);
            p.Backend.AdamStep(p.Value, p.Grad, first, second, LearningRate, Beta1, Beta2, Eps, WeightDecay, StepCount);
        }
    }
}

/// <summary>Plain stochastic gradient descent: p −= lr · (grad + wd · p).</summary>
public sealed class Sgd(IReadOnlyList<Var> parameters, double learningRate, double weightDecay = 0) : Optimizer(parameters)
{
    public override double LearningRate { get; set; } = learningRate;
    public double WeightDecay { get; } = weightDecay;

    public override void Step()
    {
        foreach (var p in Parameters)
        {
            if (p.Grad is null) continue;
            if (WeightDecay != 0) p.Backend.AddScaled(p.Value, -LearningRate * WeightDecay, p.Value);
            p.Backend.AddScaled(p.Grad, -LearningRate, p.Value);
        }
    }
}
